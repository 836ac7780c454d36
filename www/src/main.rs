//! Entry point of the web build. On the page it mounts the app; in a Web Worker (the page loads
//! this same module into its simulation workers) it serves simulation requests.

use gloo_worker::Registrable;

fn main() {
    if cascade_web::in_worker() {
        cascade_web::worker::RunWorker::registrar().register();
    } else {
        cascade_web::start();
    }
}
