"""The service layer: the only code that queries or commits.

Every function that acts on a user's data takes the acting user's id first and
filters every statement by it. Failures are the exceptions of myapp.errors.
"""
