"""Management information for the inspection's recommendations 4, 5, 14 and 15 (issue 9, part 2).

Plain rules and settings (standards.py, settings.py), the viewer's scope through the access layer
(scope.py), the figures (reviews.py, compliance.py, workload.py, dashboard.py) and SVG charts
(charts.py). No Flask here.
"""
