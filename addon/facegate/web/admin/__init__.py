"""The administrator pages (web/admin/pages.py), behind Home Assistant's ingress or the API
token."""
