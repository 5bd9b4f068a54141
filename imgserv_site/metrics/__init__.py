"""Prometheus metrics at /metrics: what the processes counted (`instruments`), added up across
the web server and the workers (`collectors.ProcessTrees`), and what the database and the disk
say at the moment of the scrape (`collectors.SiteState`)."""
