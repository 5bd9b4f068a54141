"""Road region, road condition and weather (issue #5 builds it).

Until then the overlay shows a placeholder for the condition.
"""
