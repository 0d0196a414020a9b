"""The school system the rules act on.

Agents, costs and budgets, structure generators and networks, and the metrics
recorded each step.
"""
