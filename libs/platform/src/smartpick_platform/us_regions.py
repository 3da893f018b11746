"""US Census Bureau regions, the one table the services share (Puerto Rico with the South, as the Census
groups its territories nowhere)."""

CENSUS_REGIONS = {
    "Northeast": "CT ME MA NH RI VT NJ NY PA",
    "Midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "South": "DE DC FL GA MD NC SC VA WV AL KY MS TN AR LA OK TX PR",
    "West": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
}
REGION_OF = {state: region for region, states in CENSUS_REGIONS.items() for state in states.split()}
