"""HTTP areas: one module per area with its entity declarations and actions; thin. The list of areas
is ``podium.api.areas.AREAS``; nothing registers itself by being imported."""
