"""Open data: the public record of procurement in the Open Contracting Data Standard."""
