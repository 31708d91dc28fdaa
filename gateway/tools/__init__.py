"""Brand authoring tools: ``jumbe graph`` (a Mermaid diagram) and ``jumbe simulate`` (a phone)."""
