"""The service layer: use cases over the store, one visible transaction each.

Services take their dependencies as keyword arguments (a unit of work, the time ``now``)
and return domain results or raise domain errors, never Slack or HTTP objects.
"""
