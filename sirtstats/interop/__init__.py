"""Interoperability: REDCap exports and CDISC SDTM in, ADaM-style datasets out."""
