//! Forward/backward kernel pairs over flat f32 buffers: the call lists of generated models.

pub mod activation;
pub mod attention;
pub mod batch_norm;
pub mod conv1d;
pub mod cross_entropy;
pub mod distillation;
pub mod dropout;
pub mod gemm;
pub mod glu;
pub mod layer_norm;
pub mod linear;
pub mod merge;
pub mod pooling;
pub mod positions;
pub mod residual;
