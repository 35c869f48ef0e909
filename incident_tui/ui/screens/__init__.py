"""Screens: the incident list, one dashboard per open incident, forms and the document viewer."""
