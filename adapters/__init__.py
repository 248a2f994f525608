"""Protocol adapters: each turns its protocol's data into domain events; simulators too."""
