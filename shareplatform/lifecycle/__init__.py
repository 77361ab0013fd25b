"""Case lifecycle (issue 9, part 1): stages, transition checklists, risk management plans and
assessments shared with POMs. Domain rules in stages.py; use cases in services.py."""
