"""Views: symbol lookups, the missing-symbols report, health endpoints, error views."""
