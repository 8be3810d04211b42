"""Follow-up tasks: conclusions and opinion results carried out by units, through to done.

A task is assigned to a unit or a person with a deadline; assignees report progress, ask
for extensions and mark it done with evidence; the office accepts or sends it back.
"""
