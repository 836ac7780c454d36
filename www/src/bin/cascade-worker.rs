//! Entry point of the simulation worker, which Trunk builds as a Web Worker (see index.html).

use gloo_worker::Registrable;

fn main() {
    cascade_web::worker::RunWorker::registrar().register();
}
