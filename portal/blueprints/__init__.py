"""One blueprint per audience."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from .auditor import bp as auditor_bp
    from .auditor_search import bp as auditor_search_bp
    from .auth import bp as auth_bp
    from .coordinator import bp as coordinator_bp
    from .insured import bp as insured_bp
    from .oversight import bp as oversight_bp
    from .supervisor import bp as supervisor_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(insured_bp, url_prefix="/me")
    app.register_blueprint(coordinator_bp, url_prefix="/staff")
    app.register_blueprint(supervisor_bp, url_prefix="/staff")  # its screens under /staff/admin
    app.register_blueprint(auditor_bp, url_prefix="/audit")
    app.register_blueprint(auditor_search_bp, url_prefix="/audit/search")
    app.register_blueprint(oversight_bp, url_prefix="/oversight")
