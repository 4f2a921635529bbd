"""lantian 蓝天: the ``lantian`` command line (:mod:`lantian.cli`), above the library packages.

The library is ``forecast`` (station data, meteorology, the AQI forecaster) and ``response`` (warnings, plans,
emission-reduction lists, bulletins, audit, post-episode evaluation); ``simulate`` writes the demo world.
"""
