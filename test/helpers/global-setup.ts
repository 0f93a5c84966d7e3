// Placeholder replaced by the foundation work: checks MariaDB and Redis before any test runs.
export default function globalSetup(): void {}
