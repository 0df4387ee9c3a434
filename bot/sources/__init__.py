"""Where digests come from: the data branch of a fork over HTTP, or a local folder; and the poll that ingests them."""
