"""The PostgreSQL engine: a server shared by several bot processes, reached with psycopg 3."""
