"""What every app's API is built from: strict request fields and the OpenAPI description of
the one error shape. It imports no app of the project, so any app may import it."""
