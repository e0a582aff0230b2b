"""Delivery channels: SMS and email, real or console, behind one small interface."""
