"""Apex spotting from the aligned faces (no training) and the annotation audit: faces store -> apex table."""
