"""Road region, road condition and weather (issue #5).

Other apps read the current state through `analytics.service.current_conditions(camera)`.
"""
