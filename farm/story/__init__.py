"""A plot's season told as a family would read it: its story page (the sign, the crop's
stage, the work with its photos, the households who tend it, harvests and boxes), the end of
season summary and the plot's certificate. Stands above fieldwork, shipments and partners,
whose records it reads; none of them imports it."""
