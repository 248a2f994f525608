"""Services: the compound's operations on the relational state and on equipment."""
