"""The community roster (app label ``agora``): communities, buildings, households, residents,
memberships and their roles, the roster import and its change log."""
