"""Which parts of a URL the log hides: a source URL's credentials, a database URL's password only."""

from __future__ import annotations

from storage.urls import database_url_secrets, url_secrets


def test_a_source_urls_user_may_be_its_token_and_is_hidden() -> None:
    assert url_secrets("https://ghp_abcdef123@raw.githubusercontent.com/x?token=zz99") == ["ghp_abcdef123", "zz99"]


def test_a_database_url_hides_its_password_not_its_user_or_options() -> None:
    # Hiding the user `postgres` would blank that word in every log line.
    assert database_url_secrets("postgresql://postgres:s3cret-pw@db:5432/bot?sslmode=require") == ["s3cret-pw"]
    assert database_url_secrets("postgresql://bot@db/bot?password=hunter22&application_name=digest") == ["hunter22"]
    assert database_url_secrets("postgresql://bot@db/bot") == []
    assert database_url_secrets(None) == []
