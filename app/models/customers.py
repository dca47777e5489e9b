"""(issue 4: filled in by its owner)"""
