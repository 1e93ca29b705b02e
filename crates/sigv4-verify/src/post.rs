//! POST forms (todo)
