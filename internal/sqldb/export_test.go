package sqldb

// WALBackstopPages exposes walBackstopPages to the external tests.
const WALBackstopPages = walBackstopPages
