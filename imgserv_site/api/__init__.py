"""The REST API under /api/: public reading, staff-only changes, documented by drf-spectacular.

Thin views over what the status page, the viewer and analytics already compute.
"""
