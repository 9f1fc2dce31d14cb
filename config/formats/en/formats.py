# The one way the product writes dates and times, in pages (the `date` filter:
# {{ value|date:"DATETIME_FORMAT" }}), in text made outside a request
# (accounts.time_zones.format_in) and in Django admin: 24-hour times and the
# day before the month, so no reader mistakes 03/04 or 03:39 AM for anything
# else. static/js/chat/format.js prints exactly the same in the browser.
DATE_FORMAT = "j M Y"  # 7 Dec 2025
TIME_FORMAT = "H:i"  # 14:02
DATETIME_FORMAT = "j M Y, H:i"  # 7 Dec 2025, 14:02
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
FIRST_DAY_OF_WEEK = 1  # Monday
