"""Analytics: events recorded where things happen, figures for the reports, gaps for the content team."""
