"""What every app's API is built from: strict request fields, the OpenAPI description of
the one error shape, and the table the request limits count in (recsite.access.limits). It
imports no app of the project, so any app may import it."""
