"""Chinese-specific domain data and rules shared by the generator and the cleansing engine:
administrative divisions, resident ID numbers (GB 11643), names and mobiles."""
