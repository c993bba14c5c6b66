"""What tests of every tier share, and that is not a fixture: waiting on a positive signal (`wait`),
manifests of the objects tests apply (`manifests`), scenarios on the testbed (`scenarios`) and the
Argo CD samples (`argocd`). Test modules import from here, never from one another."""
