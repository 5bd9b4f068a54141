"""Notifications: webhooks and e-mail when a camera goes offline and comes back, snow or ice
begins and ends on a road, a forecast alert appears, publishing keeps failing, or the disk runs
low. It listens to cameras, analytics and publishing; only imgserv_site imports it."""
