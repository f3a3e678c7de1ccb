"""The warehouse: the only package that speaks SQL or knows the store's dialect."""

import warnings

# polars warns that reading a DuckDB DB-API result through Arrow copies it once; that copy is
# the price of one read path for both stores, and the warning would only alarm users.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
