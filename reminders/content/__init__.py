"""Content: message templates, how they are rendered and checked, edited and published, and the defaults a new clinic starts from."""
