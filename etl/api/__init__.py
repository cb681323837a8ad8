"""The Datto RMM API client: auth, rate budget, retries and paging on httpx."""
