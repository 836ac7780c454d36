//! Entry point of the web build: mounts the app.

fn main() {
    cascade_web::start();
}
