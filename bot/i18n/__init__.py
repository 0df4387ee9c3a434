"""Localisation: the zh-CN and zh-TW message catalogs, the `t()` lookup, dates per locale, command help."""
