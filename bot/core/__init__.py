"""What every room uses: settings, logging, domain errors, dates, arXiv's categories, the services bundle."""
