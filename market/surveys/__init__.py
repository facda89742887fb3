"""Resident satisfaction surveys: per contracted project and standing per community."""
