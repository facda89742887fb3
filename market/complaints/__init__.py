"""Complaints with an owner and a deadline: lodged by residents, NGOs and buyers, dispatched by
category, escalated when late, answered, rated and reopened once."""
