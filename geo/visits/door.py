"""The door rule measured as the phone measures it: one formula for ODK Collect, Enketo (the
web app) and campo.

ODK's form engines compute ``distance()`` on a sphere of radius 6,378,100 m with the
spherical law of cosines (JavaRosa's ``GeoUtils``, and the openrosa-xpath-evaluator Enketo
runs). Near the equator that reads up to 0.7 % more than the spheroid north-south, so a fix a
few decimetres from a fence's edge would pass the form's check at the door and fail the
server's. The check-in's distance to a circle fence is therefore measured with the phone's
formula, by the SQL function ``campo_door_distance`` (migration 0024, from the constant
here), so both decide the same way on the same numbers. A polygon fence
is measured on the spheroid: the phone cannot test a polygon and tests the circle that holds
it (:mod:`geo.fieldkit.day_file`), so there it may accept what the server rejects.
"""

from __future__ import annotations

PHONE_EARTH_RADIUS_M = 6_378_100.0
"""JavaRosa's ``EARTH_EQUATORIAL_RADIUS_METERS``, Enketo's too."""
