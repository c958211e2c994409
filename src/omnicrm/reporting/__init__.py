"""Campaign-result reports: treatment-vs-control statistics (``stats``), the per-campaign
analysis table (``campaign``), and the papermill/nbconvert renderer behind ``omnicrm reports``
(``render``, ``cli``)."""
