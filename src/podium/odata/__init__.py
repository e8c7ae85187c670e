"""The generic OData layer: declarations, query options, $filter, SQL building, serialization, $metadata."""
