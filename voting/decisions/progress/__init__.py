"""Progress of an owners' decision (participation against the 2/3 quorum, live), its results
(preliminary, corrected, final), objections, the audited correction and the final announcement."""
