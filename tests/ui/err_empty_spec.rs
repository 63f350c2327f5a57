// Error case: an empty spec, pointing at the invocation.
hrf_runtime::model! {}

fn main() {}
